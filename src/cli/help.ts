// The help text of every command, printed by --help (exit code 0) and pointed at by usage errors.

// The reading options train, predict and evaluate share.
const READING = `Reading the CSV file:
  --no-header          the first line is a row, not names: the columns are numbered 1, 2, ...
                       (--label 5, and the model file names its features 1, 2, ...)
  --delimiter C        the cell separator: one character, or comma, semicolon or tab (also "\\t");
                       default: found from the first lines (",", ";" or a tab, whichever splits
                       every line into the same number of cells). With a separator other than ","
                       a decimal comma (1,5) is read too
  --skip-rows N        skip the first N lines (comments, a title) before the header or the first
                       row; line numbers in messages still count them. Without it, scikit-learn's
                       first line ("150,4,setosa,versicolor,virginica": rows, features, class
                       names) is recognised: it is skipped, the columns are numbered and the last
                       column's classes 0, 1, ... are named by it
Every bad line is reported (up to 20, then a count), in file order.
`;

export const MAIN_HELP = `klcore: train, use and compare classifiers that minimise KL divergence (SIMD WebAssembly)

Usage: klcore <command> [options]

Commands:
  train DATA.csv [--label COLUMN]    train softmax regression or an MLP; write the model as JSON
  predict MODEL.json DATA.csv        class probabilities and the predicted label of every row, as
                                     CSV on stdout
  evaluate MODEL.json DATA.csv       loss, KL, accuracy and the confusion matrix
  compare-losses                     train with KL, MSE, L1 and Jensen-Shannon; table, JSON and SVG
  compare-vi                         what variational inference minimises: ELBO vs L2, reverse vs
                                     forward KL, mean-field vs full-rank; table, JSON and SVG
  bench [--quick]                    the benchmark suite (in a source checkout)

Options:
  -h, --help       this text; 'klcore <command> --help' for a command's options
  -v, --version    the version

Exit codes: 0 success; 1 bad data, an unreadable file or failed training (the message names
the file, and the line and column of a bad cell); 2 bad arguments.
`;

export const TRAIN_HELP = `Usage: klcore train DATA.csv [--label COLUMN] [options]

Trains a classifier on a CSV file by minimising KL divergence (or another loss) and writes it as
JSON. The first line names the columns (or see --no-header). The label column holds the classes:
numbers or strings, in sorted order (numerically when every label is a number). Every other column
is a feature and must hold plain decimal numbers. A label column that looks continuous (numbers,
at least 10 distinct and one per 5 rows or more) gets a warning on stderr.

Options:
  --label COLUMN       the column holding the class labels, by name or by number (1 is the first);
                       default: the last column
  --model NAME         softmax (softmax regression) or mlp (default mlp)
  --hidden W1,W2,...   the MLP's hidden layer widths (default 64)
  --activation NAME    the MLP's hidden activation: relu or tanh (default relu)
  --loss NAME          kl (default), cross-entropy, mse, l1 or js
  --optimizer NAME     adam (default), sgd, rmsprop or adagrad
  --lr X               the learning rate (default: the optimiser's own, 0.001 for adam and sgd,
                       0.01 for rmsprop and adagrad)
  --epochs N           passes over the training rows (default: enough for at least 2,000
                       optimisation steps, and at least 20: 500 for 120 rows in batches of 32)
  --batch-size N       rows per step (default 32)
  --seed N             seeds the initialisation, the hold-out split and the shuffling (default 0)
  --validation F       hold out a seeded random fraction F of the rows of each class (0 <= F < 1;
                       not the last rows) and report their loss, KL and accuracy after every epoch;
                       they are never trained on and choose nothing. 0 trains on every row
                       (default 0.2)
  --scale METHOD       standard: standardise each feature with the mean and standard deviation
                       of the training rows, saved in the model file and applied by predict and
                       evaluate; none: use the values as they are (default standard)
  --out FILE           where to write the model (default model.json); written only when
                       training succeeds, never in part
  --history FILE       also write every epoch's loss, KL and accuracy, training and held-out
                       (fit()'s EpochStats): CSV for FILE.csv, JSON for FILE.json
  --quiet              no progress bar and no per-epoch lines
  -h, --help           this text

${READING}
Prints a progress bar on stderr when stderr is a terminal, per-epoch lines (loss, KL and accuracy,
training and held-out; every epoch up to 50, else about 50 of them and the last) and a summary on
stdout.

Exit codes: 0 the model was written; 1 bad data (the message names the line and column), an
unreadable file or diverged training, with no model written; 2 bad arguments.
`;

export const PREDICT_HELP = `Usage: klcore predict MODEL.json DATA.csv [reading options]

Writes the class probabilities of every row of DATA.csv as CSV on stdout: a header with one column
per class label (the labels seen in training) and last the column "predicted" (the label of the
most probable class; "_predicted" if a class is named "predicted"), then one line per data row.
DATA.csv needs every feature column the model was trained on, found by name in any order (by
number for a model trained with --no-header); other columns (the label, an id) are ignored. The
model's feature scaling is applied first.

Options:
  -h, --help     this text

${READING}
For a model trained on a file without a header, --no-header is the default.

Exit codes: 0 done; 1 bad data (the message names the line and column) or an unreadable or
malformed model file; 2 bad arguments.
`;

export const EVALUATE_HELP = `Usage: klcore evaluate MODEL.json DATA.csv [--label COLUMN] [--json] [reading options]

Evaluates a model on labelled rows: the mean of the loss it was trained with, the mean KL from the
labels to the model's distributions (nats), the accuracy, and the confusion matrix (a row per true
label, a column per predicted label).

Options:
  --label COLUMN   the column holding the labels, by name or number (default: the label column
                   of training)
  --json           print one JSON object instead of the text report
  -h, --help       this text

${READING}
For a model trained on a file without a header, --no-header is the default.

Exit codes: 0 done; 1 bad data (the message names the line and column; a label never seen in
training is refused) or an unreadable or malformed model file; 2 bad arguments.
`;

export const COMPARE_HELP = `Usage: klcore compare-losses [--task zipf|digits|all] [--seeds N] [--out DIR] [--quick]

Trains the same model from the same initialisation and data with each loss, KL (cross-entropy),
MSE, L1 and Jensen-Shannon, and measures the KL from the target to the model at every step,
whatever loss was optimised:
  zipf     a free categorical distribution over 1,000 classes fitted to a Zipf target (exponent 1)
           from the uniform start: 2,000 full-batch steps, once with SGD and once with Adam;
           deterministic, so it runs once per loss
  digits   softmax regression and an MLP (64-64-10, relu) on the embedded digits, Adam, 40 epochs,
           batch 32, standardised pixels; held-out KL and accuracy after every epoch, over N seeds
Each loss's learning rate is chosen from a grid of six half-decade steps by the final KL of a tuning
run (zipf: the run itself; digits: seed 0, on a validation split of its training rows; final KLs
below 1e-5, float32's floor, tie, and the fewest steps to the threshold decides), then run at that
rate. Reported per loss: final KL, steps to a KL threshold (zipf 0.01, digits 0.2), held-out
accuracy (digits), wall time; median and range over the seeds.

Writes DIR/loss-comparison.md (tables), DIR/loss-comparison.json (every curve, the settings, seeds
and versions), DIR/loss-comparison.svg (KL against step, log scale, a line per loss) and
DIR/loss-comparison.vl.json (the vega-lite spec of the chart, for a browser). The same seeds give
the same numbers; only the wall times differ.

Options:
  --task NAME    zipf, digits or all (default all)
  --seeds N      seeds 1..N for the digits runs (default 5; 2 with --quick)
  --out DIR      the output folder, created if missing (default .)
  --quick        a tiny setting (50 classes, 100 steps; 450 digits, 3 epochs; two rates)
  --digits FILE  the digits CSV (default: data/digits.csv of the package)
  -h, --help     this text

Exit codes: 0 done; 1 a file could not be read or written; 2 bad arguments.
`;

export const COMPARE_VI_HELP = `Usage: klcore compare-vi [--out DIR] [--quick]

Three experiments on what variational inference minimises, each against quadrature on a grid:
  1. the unknown normaliser: a Gaussian q fitted by the ELBO, from ln p(x, z) alone, and by the
     squared L2 distance to p(x, z) / p-hat(x) with p-hat = c p(x), c = 0.5, 0.9, 1, 1.1, 2, on the
     conjugate Gaussian and a skewed 1-D posterior; the ELBO's fit is rerun with each wrong
     normaliser divided in and must not move
  2. reverse KL (fitVI) against forward KL on a bimodal target
  3. mean-field against full-rank on a Gaussian with correlation 0.9
Every fit is seeded: the same command gives the same numbers; only the wall time differs.

Writes DIR/vi-comparison.md (tables), DIR/vi-comparison.json (every number, the settings and
versions), DIR/vi-comparison.svg (the densities) and DIR/vi-comparison.vl.json (the chart's
vega-lite spec).

Options:
  --out DIR    the output folder, created if missing (default .)
  --quick      300 optimisation steps instead of 4,000
  -h, --help   this text

Exit codes: 0 done; 1 a file could not be written; 2 bad arguments.
`;

export const BENCH_HELP = `Usage: klcore bench [--quick]

Runs the benchmark suite, the same command as 'npm run bench' (the "bench" script of the package's
package.json), from the package root. It needs a source checkout: the benchmarks are not published.

Options:
  --quick      a smoke run that writes no results (BENCH_QUICK=1 for every suite)
  -h, --help   this text

Exit code: the suite's.
`;
