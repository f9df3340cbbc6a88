/**
 * A project's header rules next to the proxy's own headers, each name sent once. The proxy's
 * headers win, except those in `yielding` (a rule may set Cache-Control on a redirect).
 * Only the answers without a precomputed file response (redirects, the platform's 404) need
 * this at request time; file responses merge their rules once, when the site is compiled.
 */
export function withRuleHeaders(rules: string[], own: string[], yielding: string[] = []): string[] {
  const ruleNames = new Set<string>();
  for (let i = 0; i < rules.length; i += 2) ruleNames.add(rules[i]!.toLowerCase());
  const ownNames = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < own.length; i += 2) {
    const name = own[i]!.toLowerCase();
    if (yielding.includes(name) && ruleNames.has(name)) continue;
    ownNames.add(name);
    out.push(own[i]!, own[i + 1]!);
  }
  for (let i = 0; i < rules.length; i += 2) if (!ownNames.has(rules[i]!.toLowerCase())) out.push(rules[i]!, rules[i + 1]!);
  return out;
}
