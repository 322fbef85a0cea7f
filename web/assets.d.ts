// esbuild bundles the stylesheets a module imports into main.css.
declare module "*.css";
