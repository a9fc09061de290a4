DROP INDEX `runs_pending`;--> statement-breakpoint
CREATE INDEX `runs_queued` ON `runs` (`due_at`) WHERE status = 'queued';--> statement-breakpoint
CREATE INDEX `runs_running` ON `runs` (`lease_until`) WHERE status = 'running';