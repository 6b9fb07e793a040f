// Type-checked only (tsc --noEmit): the declarations as a CommonJS app sees them.
import pulse = require("pulse-jobs");

export async function run(): Promise<string> {
  const job = await pulse.waitForJob("job-1", { apiKey: "key" });
  // @ts-expect-error TS2322 status is a string, not a number
  const n: number = job.status;
  void n;
  return job.job_id;
}
