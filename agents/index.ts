// The agents' deterministic strategies (pure functions, no I/O). The agent runtimes that wrap
// them with model providers and the gateway come later.
export * from './strategies/index.js';
