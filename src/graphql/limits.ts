/** Limits on every GraphQL document, over HTTP and WebSocket alike. */
export const MAX_TOKENS = 5_000;

export const armorLimits = {
  maxDepth: { n: 20 },
  maxAliases: { n: 20 },
  costLimit: { maxCost: 20_000 },
  // the token limit is enforced by the parser itself (parseOptions), so that an oversized or
  // malformed document answers 400 like any parse error
  maxTokens: { enabled: false },
  maxDirectives: { n: 20 },
};
