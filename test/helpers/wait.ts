/** Waits until `condition` holds, or `ms` pass: for effects the server completes just after its answer (background unlinks). */
export async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
