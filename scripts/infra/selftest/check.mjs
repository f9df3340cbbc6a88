// Minimal assertion helper for the selftest scripts.
let passed = 0,
  failed = 0;
export async function check(name, fn) {
  try {
    const ok = await fn();
    if (ok === false) throw new Error('returned false');
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.name ?? ''} ${e?.message ?? e}`);
  }
}
export function done(suite) {
  console.log(`${suite}: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
