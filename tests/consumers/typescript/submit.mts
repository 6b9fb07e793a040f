// Type-checked only: submitJob's answer follows the endpoint literal, as
// Pulse's API definition types each endpoint's answer.
import { PulseClient, runJob, submitJob } from "pulse-jobs";
import type {
  BatchExtractSubmitted,
  BatchSchemaSubmitted,
  BatchSplitSubmitted,
  BatchSubmitted,
  BatchTablesSubmitted,
  Job,
  SubmitOptions,
  Submitted,
  SubmittedJob,
} from "pulse-jobs";
import type { Assert, Equal } from "./equal.mjs";

const body = { file_url: "https://example.com/a.pdf" };

export async function single(): Promise<string> {
  const job = await submitJob(body);
  type _default = Assert<Equal<typeof job, SubmittedJob>>;
  const split = await submitJob(body, { endpoint: "/split" });
  type _split = Assert<Equal<typeof split, SubmittedJob>>;
  const credits: number | null | undefined = job.credits_used;
  const message: string | undefined = job.message;
  // @ts-expect-error TS2322 credits_used may be null or absent
  const sure: number = job.credits_used;
  // @ts-expect-error TS18048 a single job's answer has no batch_job_id
  void split.batch_job_id.length;
  return `${job.job_id} ${credits ?? 0} ${message ?? ""} ${sure}`;
}

export async function batches(): Promise<number> {
  const extract = await submitJob(body, { endpoint: "/batch/extract" });
  type _extract = Assert<Equal<typeof extract, BatchExtractSubmitted>>;
  const schema = await submitJob({ extraction_ids: ["x"] }, { endpoint: "/batch/schema" });
  type _schema = Assert<Equal<typeof schema, BatchSchemaSubmitted>>;
  const split = await new PulseClient().submitJob({}, { endpoint: "/batch/split" });
  type _split = Assert<Equal<typeof split, BatchSplitSubmitted>>;
  const tables = await new PulseClient().submitJob({}, { endpoint: "/batch/tables" });
  type _tables = Assert<Equal<typeof tables, BatchTablesSubmitted>>;
  const other = await submitJob({}, { endpoint: "/batch/forms" });
  type _other = Assert<Equal<typeof other, BatchSubmitted>>;

  const files: number = extract.total_files;
  const splits: number | undefined = schema.total_splits ?? schema.total_extractions;
  // @ts-expect-error TS2322 /batch/schema answers total_extractions or total_splits, each optional
  const counted: number = schema.total_extractions;
  // @ts-expect-error TS18046 only /batch/extract answers total_files
  void split.total_files.toFixed();
  // @ts-expect-error TS18048 a batch answer has no job_id: wait on batch_job_id
  void tables.job_id.length;
  // @ts-expect-error TS18046 an undeclared field of a batch answer is unknown
  void other.total_files.toFixed();
  return files + (splits ?? 0) + counted + split.total_extractions + tables.total_extractions;
}

// An endpoint that is not a literal may answer any of the forms: narrow it.
export async function anyEndpoint(options: SubmitOptions): Promise<string> {
  const submitted = await submitJob(body, options);
  type _any = Assert<Equal<typeof submitted, Submitted>>;
  // @ts-expect-error TS18048 job_id is not on a batch's answer
  void submitted.job_id.length;
  if (submitted.batch_job_id !== undefined) return submitted.batch_job_id;
  const job: SubmittedJob = submitted;
  return job.job_id;
}

export async function submitAndWait(): Promise<Job> {
  // @ts-expect-error TS2322 an endpoint is a string
  await submitJob(body, { endpoint: 42 });
  return runJob(body, { endpoint: "/extract", timeoutMs: 60_000 });
}
