// Vite's defaults: nothing pulse-jobs-specific is needed for `vite build`.
export default {};
