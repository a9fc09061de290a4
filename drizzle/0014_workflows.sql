CREATE TABLE `notifications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`namespace` text NOT NULL,
	`subject` text NOT NULL,
	`event` text NOT NULL,
	`run_id` integer,
	`instance_id` integer,
	`document` text NOT NULL,
	`url` text NOT NULL,
	`headers` text,
	`status` text NOT NULL,
	`suppressed` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`due_at` integer NOT NULL,
	`node_id` text,
	`lease_until` integer,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	`last_error` text
);
--> statement-breakpoint
CREATE INDEX `notifications_pending` ON `notifications` (`due_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `notifications_namespace` ON `notifications` (`namespace`,`id`);--> statement-breakpoint
CREATE TABLE `notify_state` (
	`subject` text PRIMARY KEY NOT NULL,
	`failing` integer DEFAULT 0 NOT NULL,
	`sent_at` integer,
	`held` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `workflow_instances` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workflow_id` integer NOT NULL,
	`namespace` text NOT NULL,
	`workflow` text NOT NULL,
	`workflow_version` integer NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`scheduled_at` integer NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`error` text,
	`params` text,
	`seq` integer DEFAULT 0 NOT NULL,
	`advanced` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workflow_instances_slot` ON `workflow_instances` (`workflow_id`,`scheduled_at`);--> statement-breakpoint
CREATE INDEX `workflow_instances_unadvanced` ON `workflow_instances` (`id`) WHERE seq != advanced;--> statement-breakpoint
CREATE INDEX `workflow_instances_running` ON `workflow_instances` (`workflow_id`) WHERE status = 'running';--> statement-breakpoint
CREATE TABLE `workflow_steps` (
	`instance_id` integer NOT NULL,
	`step_id` text NOT NULL,
	`position` integer NOT NULL,
	`status` text NOT NULL,
	`run_id` integer,
	`reason` text,
	`result` text,
	`output` text,
	PRIMARY KEY(`instance_id`, `step_id`)
);
--> statement-breakpoint
CREATE TABLE `workflows` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`overlap` text DEFAULT 'forbid' NOT NULL,
	`steps` text NOT NULL,
	`schedule` text,
	`plan` text,
	`misfire` text DEFAULT 'once' NOT NULL,
	`notify` text,
	`fired_count` integer DEFAULT 0 NOT NULL,
	`next_fire_at` integer,
	`fire_token` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`version` integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workflows_namespace_name` ON `workflows` (`namespace`,`name`);--> statement-breakpoint
CREATE INDEX `workflows_next_fire_at` ON `workflows` (`next_fire_at`) WHERE next_fire_at IS NOT NULL;--> statement-breakpoint
DROP INDEX `runs_slot`;--> statement-breakpoint
ALTER TABLE `runs` ADD `instance_id` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `step_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `runs_instance` ON `runs` (`instance_id`) WHERE instance_id != 0;--> statement-breakpoint
CREATE UNIQUE INDEX `runs_slot` ON `runs` (`job_id`,`scheduled_at`,`attempt`,`for_node`,`instance_id`,`step_id`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `workflow_id` integer;--> statement-breakpoint
ALTER TABLE `jobs` ADD `notify` text;--> statement-breakpoint
CREATE TRIGGER `runs_step_ended` AFTER UPDATE OF `status` ON `runs`
  WHEN NEW.instance_id != 0 AND NEW.status NOT IN ('queued', 'running')
BEGIN
  UPDATE `workflow_instances` SET `seq` = `seq` + 1 WHERE `id` = NEW.instance_id;
END;--> statement-breakpoint
CREATE TRIGGER `runs_step_deleted` AFTER DELETE ON `runs`
  WHEN OLD.instance_id != 0 AND OLD.status IN ('queued', 'running')
BEGIN
  UPDATE `workflow_instances` SET `seq` = `seq` + 1 WHERE `id` = OLD.instance_id;
END;
