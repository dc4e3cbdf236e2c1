/** Waits until `condition` holds, or `ms` pass: for effects the server completes just after its answer (background unlinks, a rotation's next step). */
export async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
