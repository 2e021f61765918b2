// Placeholder: the platform (OpenAPI emulation, OAuth consent, persistence) is being built here.
export {};
