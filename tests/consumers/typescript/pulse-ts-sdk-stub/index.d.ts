// A type-only stand-in for `pulse-ts-sdk` (Pulse's own SDK, not on the npm
// registry these machines reach): the two names it shares with pulse-jobs.
export interface PulseClientOptions {
  apiKey?: string;
  baseUrl?: string;
}

export interface ExtractResponse {
  job_id?: string;
  is_async?: boolean;
  markdown?: string;
}

export class PulseClient {
  constructor(options?: PulseClientOptions);
  extract(request: { file_url: string; async?: boolean }): Promise<ExtractResponse>;
}

export class PulseError extends Error {
  statusCode?: number;
  body?: unknown;
}
