// Vite's `?url` imports: the URL of a file served (dev) or copied into the build (static assets).
declare module '*?url' {
  const url: string;
  export default url;
}
