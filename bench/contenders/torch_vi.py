"""The VI step in PyTorch (CPU, float64, autograd): the contender of bench/reference/vi.mjs.

The same loop as the JavaScript reference (docs/variational-inference-reference.md, "The VI
step"): q = N(mu, L L^T), L = diag(exp(omega)) for mean-field, lower triangular with diagonal
exp(omega) and free strictly lower entries (row by row, torch.tril_indices order) for full-rank;
per step S draws eps ~ N(0, I) (torch.randn from a seeded torch.Generator), z = mu + L eps, the
ELBO estimate mean_s log p(z_s) + H(q) with the entropy in closed form, its gradient by autograd,
and one torch.optim.Adam step on -ELBO. With stl the objective is mean_s [log p(z_s) - log q(z_s)]
with q's parameters detached inside log q ("sticking the landing").

Targets: Bayesian logistic regression (y_i ~ Bernoulli(sigmoid(x_i . z)), z_j ~ N(0, s^2)) and
a Gaussian given by its mean and precision, written with batched tensor operations as a PyTorch
user would (z @ x.T for all draws at once, binary_cross_entropy_with_logits, one backward).

Used by bench/contenders/torch_child.py (the JSON-lines server Node talks to); importable alone.
"""

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


class LogisticRegression:
    def __init__(self, x, y, prior_scale=1.0):
        self.x = x
        self.y = y
        self.dim = x.shape[1]
        self.inv = 1.0 / (prior_scale * prior_scale)
        self.const = -self.dim * (math.log(prior_scale) + 0.5 * LOG_2PI)

    def __call__(self, z):
        """log p(y, z) for each row of z (draws x dim)."""
        eta = z @ self.x.T
        # The stable fused form (max(eta, 0) - y eta + log1p(e^-|eta|)); F.softplus would switch
        # to eta itself above 20, an error of up to 2e-9 per row.
        nll = F.binary_cross_entropy_with_logits(eta, self.y.expand_as(eta), reduction="none")
        loglik = -nll.sum(dim=1)
        return loglik - 0.5 * self.inv * (z * z).sum(dim=1) + self.const


class Gaussian:
    def __init__(self, mean, precision, log_normaliser=None):
        self.mean = mean
        self.precision = precision
        self.dim = mean.shape[0]
        if log_normaliser is None:
            log_normaliser = 0.5 * torch.logdet(precision).item() - 0.5 * self.dim * LOG_2PI
        self.const = log_normaliser

    def __call__(self, z):
        d = z - self.mean
        return self.const - 0.5 * ((d @ self.precision) * d).sum(dim=1)


class TorchVI:
    """One VI fit: parameters (mu, omega, lower), Adam, a seeded generator of the draws."""

    def __init__(
        self, target, family, draws=8, learning_rate=0.01, seed=1, stl=False, dtype=torch.float64
    ):
        if family not in ("meanfield", "fullrank"):
            raise ValueError(f"unknown family {family}")
        d = target.dim
        self.target = target
        self.family = family
        self.draws = draws
        self.stl = stl
        self.dtype = dtype
        self.mu = torch.zeros(d, dtype=dtype, requires_grad=True)
        self.omega = torch.zeros(d, dtype=dtype, requires_grad=True)
        self.params = [self.mu, self.omega]
        if family == "fullrank":
            self.rows, self.cols = torch.tril_indices(d, d, -1)
            self.lower = torch.zeros(len(self.rows), dtype=dtype, requires_grad=True)
            self.params.append(self.lower)
        self.optimizer = torch.optim.Adam(self.params, lr=learning_rate)
        self.generator = torch.Generator().manual_seed(seed)

    def cholesky(self):
        L = torch.diag(torch.exp(self.omega))
        if self.family == "fullrank":
            L = L.index_put((self.rows, self.cols), self.lower)
        return L

    def objective(self, eps):
        """(the objective autograd differentiates, the ELBO estimate) at draws eps (S x dim)."""
        d = self.target.dim
        entropy = 0.5 * d * (1 + LOG_2PI) + self.omega.sum()
        if self.family == "fullrank":
            L = self.cholesky()
            z = self.mu + eps @ L.T
        else:
            L = None
            z = self.mu + eps * torch.exp(self.omega)
        lp = self.target(z)
        elbo = lp.mean() + entropy
        if not self.stl:
            return elbo, elbo
        mu = self.mu.detach()
        if L is None:
            sd = torch.exp(self.omega.detach())
            white = (z - mu) / sd
            log_det = torch.log(sd).sum()
        else:
            Ld = L.detach()
            white = torch.linalg.solve_triangular(Ld, (z - mu).T, upper=False).T
            log_det = torch.log(torch.diagonal(Ld)).sum()
        log_q = -0.5 * (white * white).sum(dim=1) - log_det - 0.5 * d * LOG_2PI
        return (lp - log_q).mean(), elbo

    def step(self):
        eps = torch.randn(self.draws, self.target.dim, generator=self.generator, dtype=self.dtype)
        self.optimizer.zero_grad(set_to_none=True)
        surrogate, elbo = self.objective(eps)
        (-surrogate).backward()
        self.optimizer.step()
        return elbo.item()

    def run(self, steps):
        elbo = math.nan
        for _ in range(steps):
            elbo = self.step()
        return elbo

    def theta(self):
        return torch.cat([p.detach() for p in self.params])

    def set_theta(self, theta):
        with torch.no_grad():
            k = 0
            for p in self.params:
                p.copy_(theta[k : k + p.numel()])
                k += p.numel()

    def gradient(self, theta, eps):
        """The ELBO estimate and its gradient (ascent) with respect to theta at draws eps, in
        the JavaScript reference's order (mu, omega, lower)."""
        self.set_theta(theta)
        for p in self.params:
            p.grad = None
        surrogate, elbo = self.objective(eps)
        grads = torch.autograd.grad(surrogate, self.params)
        return elbo.item(), torch.cat(grads)
