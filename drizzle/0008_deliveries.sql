CREATE TABLE `deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`kind` text NOT NULL,
	`namespace` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`due_at` integer NOT NULL,
	`node_id` text,
	`lease_until` integer,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_run_kind` ON `deliveries` (`run_id`,`kind`);--> statement-breakpoint
CREATE INDEX `deliveries_pending` ON `deliveries` (`due_at`) WHERE status = 'pending';--> statement-breakpoint
ALTER TABLE `jobs` ADD `on_end` text;--> statement-breakpoint
UPDATE `jobs` SET `on_end` = '["juice.callback"]' WHERE json_extract(`compat`, '$.api') = 'juice' AND json_extract(`compat`, '$.callbackUrl') IS NOT NULL;
