// What esbuild's loaders make of the files the demo imports: a CSV file as its text (the text
// loader), a stylesheet as nothing (bundled into main.css).
declare module "*.csv" {
  const text: string;
  export default text;
}
declare module "*.css";
