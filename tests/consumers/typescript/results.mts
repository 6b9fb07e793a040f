// Type-checked only: the job and its result as Pulse's API definition types
// them, the result's type named by the caller, the large-result pointer, and
// Pulse's error code on a PulseError.
import { getJob, PulseClient, PulseError, runJob, waitForJob, waitForJobs, watchJob } from "pulse-jobs";
import type { BoundingBoxItem, ExtractResult, Job, LargeResultPointer, PlanInfo } from "pulse-jobs";
import type { Assert, Equal } from "./equal.mjs";

/** What a caller's own endpoint produces (a schema extraction, say). */
interface InvoiceResult {
  schema_output: { total: number };
}

export async function defaults(): Promise<string> {
  const job = await waitForJob("job-1");
  type _job = Assert<Equal<typeof job, Job<ExtractResult>>>;
  const created: string = job.created_at;
  const markdown: string | undefined = job.result?.markdown;
  const pages: number | undefined = job.result?.page_count;
  const blocks: BoundingBoxItem[] = job.result?.bounding_boxes?.Text ?? [];
  const firstPage: number | undefined = blocks[0]?.page_number;
  const plan: PlanInfo | undefined = job.result?.plan_info;
  const credits: number | null | undefined = job.result?.credits_used;
  // Pulse's own fields that are not declared are kept, and typed unknown.
  const progress: unknown = job.progress;
  const extra: unknown = job.result?.some_new_field;
  // @ts-expect-error TS18046 an undeclared field is unknown, not any
  void job.progress.toFixed();
  // @ts-expect-error TS2322 markdown may be absent
  const sure: string = job.result?.markdown;
  // @ts-expect-error TS2322 created_at is a string (Pulse requires it)
  const when: number = job.created_at;
  // @ts-expect-error TS2322 a downloaded result is never the pointer
  const link: string | undefined = job.result?.url;
  return `${created} ${markdown} ${pages} ${firstPage} ${plan?.tier} ${credits} ${progress} ${extra} ${sure} ${when} ${link}`;
}

export async function named(): Promise<number> {
  const job = await waitForJob<InvoiceResult>("job-2", { timeoutMs: 60_000 });
  const run = await runJob<InvoiceResult>({ file_url: "https://example.com/a.pdf" }, { endpoint: "/schema" });
  const client = new PulseClient();
  const viaClient = await client.waitForJob<InvoiceResult>("job-3");
  let total = (job.result?.schema_output.total ?? 0) + (run.result?.schema_output.total ?? 0);
  total += viaClient.result?.schema_output.total ?? 0;
  for await (const seen of watchJob<InvoiceResult>("job-4")) total += seen.result?.schema_output.total ?? 0;
  for await (const seen of client.watchJob<InvoiceResult>("job-5")) total += seen.result?.schema_output.total ?? 0;
  const settled = await waitForJobs<InvoiceResult>(["a", "b"], {
    onJobSettled: (r) => void (r.status === "fulfilled" && r.value.result?.schema_output.total),
  });
  const more = await client.waitForJobs<InvoiceResult>(["c"]);
  for (const r of [...settled, ...more]) if (r.status === "fulfilled") total += r.value.result?.schema_output.total ?? 0;
  // @ts-expect-error TS2339 the named type has no markdown
  void job.result?.markdown;
  return total;
}

// getJob answers as the API sent: a large result is the pointer. Narrow on is_url.
export async function pointer(): Promise<string> {
  const job = await getJob("job-6");
  type _job = Assert<Equal<typeof job, Job<ExtractResult | LargeResultPointer>>>;
  const result = job.result;
  // @ts-expect-error TS2322 url is only a string on the pointer
  const link: string | undefined = result?.url;
  if (result?.is_url) {
    type _pointer = Assert<Equal<typeof result, LargeResultPointer>>;
    return result.url;
  }
  const named = await new PulseClient().getJob<InvoiceResult>("job-7");
  const r = named.result;
  if (r && "is_url" in r) return r.url;
  return `${result?.markdown} ${r?.schema_output.total} ${link}`;
}

// Without the download, the wait's result may stay the pointer; onProgress
// sees the pointer either way (the download comes after that poll).
export async function undownloaded(): Promise<string> {
  const job = await waitForJob("job-8", {
    downloadResult: false,
    onProgress: (polled) => {
      type _polled = Assert<Equal<typeof polled, Job<ExtractResult | LargeResultPointer>>>;
    },
  });
  type _job = Assert<Equal<typeof job, Job<ExtractResult | LargeResultPointer>>>;
  const ran = await runJob({}, { downloadResult: false });
  type _ran = Assert<Equal<typeof ran, Job<ExtractResult | LargeResultPointer>>>;
  for await (const seen of watchJob("job-9", { downloadResult: false })) {
    type _seen = Assert<Equal<typeof seen, Job<ExtractResult | LargeResultPointer>>>;
  }
  const settled = await waitForJobs(["a"], { downloadResult: false });
  type _settled = Assert<Equal<typeof settled, PromiseSettledResult<Job<ExtractResult | LargeResultPointer>>[]>>;
  // @ts-expect-error TS18046 the result may be the pointer, whose markdown is unknown
  void job.result?.markdown.length;
  return job.result?.is_url ? job.result.url : "";
}

export async function serverError(): Promise<string> {
  try {
    await getJob("job-10");
  } catch (error) {
    if (error instanceof PulseError) {
      const code: string | undefined = error.serverCode;
      const details: unknown = error.serverDetails;
      // @ts-expect-error TS18048 serverCode is absent when the body had none
      void error.serverCode.length;
      // @ts-expect-error TS18046 details are unknown: check them before use
      void error.serverDetails.field;
      // The job on a failed, canceled or expired wait: its result is no extraction.
      const ended: unknown = error.job?.result;
      // @ts-expect-error TS18046 an ended job's result is unknown
      void error.job?.result.markdown;
      return `${code} ${details} ${ended}`;
    }
  }
  return "";
}
