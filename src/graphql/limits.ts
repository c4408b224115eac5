/** Limits on every GraphQL document, over HTTP and WebSocket alike. */
export const MAX_TOKENS = 5_000;

export const armorLimits = {
  maxDepth: { n: 20 },
  maxAliases: { n: 20 },
  // cost estimates the fields an answer can hold (a list's `first` multiplies what is under it);
  // not 1.5× per level: a vSphere tree is deep by nature and a frontend asks for it whole (a
  // vCenter of thousands of VMs); depth has its own limit above
  costLimit: { maxCost: 250_000, depthCostFactor: 1 },
  // the token limit is enforced by the parser itself (parseOptions), so that an oversized or
  // malformed document answers 400 like any parse error
  maxTokens: { enabled: false },
  maxDirectives: { n: 20 },
};
