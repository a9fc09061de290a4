CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`schedule` text,
	`schedule_kind` text NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`due_time` text,
	`ttl` text,
	`due_at` integer,
	`anchor_at` integer,
	`start_at` integer,
	`end_at` integer,
	`repeats` integer,
	`fired_count` integer DEFAULT 0 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`target_kind` text NOT NULL,
	`target` text NOT NULL,
	`timeout_ms` integer,
	`retry` text,
	`overlap` text DEFAULT 'forbid' NOT NULL,
	`max_concurrency` integer,
	`misfire` text DEFAULT 'once' NOT NULL,
	`payload` text,
	`memo` text,
	`labels` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`next_fire_at` integer,
	`version` integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_namespace_name` ON `jobs` (`namespace`,`name`);--> statement-breakpoint
CREATE INDEX `jobs_next_fire_at` ON `jobs` (`next_fire_at`) WHERE next_fire_at IS NOT NULL;--> statement-breakpoint
CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`started_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL,
	`version` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `run_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`at` integer NOT NULL,
	`stream` text NOT NULL,
	`line` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `run_logs_run` ON `run_logs` (`run_id`,`seq`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` integer NOT NULL,
	`namespace` text NOT NULL,
	`job_name` text NOT NULL,
	`scheduled_at` integer NOT NULL,
	`due_at` integer NOT NULL,
	`trigger` text NOT NULL,
	`attempt` integer DEFAULT 1 NOT NULL,
	`key` integer,
	`status` text NOT NULL,
	`node_id` text,
	`lease_until` integer,
	`fence` integer DEFAULT 0 NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	`result` text,
	`error` text,
	`output_tail` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_slot` ON `runs` (`job_id`,`scheduled_at`,`attempt`);--> statement-breakpoint
CREATE INDEX `runs_job` ON `runs` (`job_id`,`id`);--> statement-breakpoint
CREATE INDEX `runs_pending` ON `runs` (`status`,`due_at`);