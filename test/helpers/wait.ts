/**
 * Waits until something observable holds (a server saw a request, a file appeared), checking
 * often, instead of sleeping a fixed time that is too long on a fast machine and too short on a
 * loaded one. Fails with `what` when it does not happen within `timeoutMs`.
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
