// esbuild bundles the stylesheet main.ts imports into app.css; to TypeScript it is a bare import.
declare module '*.css';
