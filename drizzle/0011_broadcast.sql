DROP INDEX `runs_slot`;--> statement-breakpoint
ALTER TABLE `runs` ADD `for_node` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `runs_queued_for_node` ON `runs` (`for_node`) WHERE status = 'queued' AND for_node != '';--> statement-breakpoint
CREATE UNIQUE INDEX `runs_slot` ON `runs` (`job_id`,`scheduled_at`,`attempt`,`for_node`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `broadcast` integer DEFAULT false NOT NULL;