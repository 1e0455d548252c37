// Vite's `?url` imports: the URL of a file served (dev) or copied into the build (static assets).
declare module '*?url' {
  const url: string;
  export default url;
}

/** The package version and git commit the pages were built from (vite.config.ts `define`). */
declare const __WGT_SOURCE__: { version: string; commit: string; dirty: boolean | null };
