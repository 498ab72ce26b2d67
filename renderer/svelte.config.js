// Svelte 5 reads TypeScript in components natively; nothing to configure.
export default {};
