// The job body the API benchmarks create: a realistic one (cron schedule, time zone, http target with
// headers, timeout, retry policy, payload, labels), varied by its number.
const SCHEDULES = ["0 3 * * *", "30 2 * * 1-5", "15 */6 * * *", "0 0 1 * *", "45 23 * * 0", "10 4 * * *", "5 1 1,15 * *", "20 22 * * 6"];
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"];

export function realisticJob(i: number, sinkUrl: string) {
  return {
    schedule: SCHEDULES[i % SCHEDULES.length],
    timezone: ZONES[i % ZONES.length],
    target: {
      http: {
        url: `${sinkUrl}/hooks/report-${i % 100}`,
        method: "POST",
        headers: { "x-tenant": `tenant-${i % 37}`, authorization: "Bearer 0123456789abcdef" },
      },
    },
    timeout: "30s",
    retry: { times: 3, interval: "10s", backoff: "exponential" },
    payload: { report: "daily-usage", tenant: i % 37, format: "csv" },
    labels: { team: "billing", env: "bench" },
  };
}
