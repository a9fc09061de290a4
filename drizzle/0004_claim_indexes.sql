DROP INDEX `runs_queued`;--> statement-breakpoint
CREATE INDEX `runs_unowned` ON `runs` (`due_at`) WHERE status = 'queued' AND node_id IS NULL;--> statement-breakpoint
CREATE INDEX `runs_queued_lease` ON `runs` (`lease_until`) WHERE status = 'queued';--> statement-breakpoint
CREATE INDEX `runs_running_job` ON `runs` (`job_id`) WHERE status = 'running';