/** Stylesheets are bundled by esbuild into dist/console/console.css. */
declare module '*.css';
