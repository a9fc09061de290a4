CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`role` text NOT NULL,
	`namespaces` text,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`last_used_at` integer,
	`rev` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `api_keys_rev` ON `api_keys` (`rev`);--> statement-breakpoint
CREATE TABLE `namespace_counts` (
	`namespace` text PRIMARY KEY NOT NULL,
	`jobs` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `jobs` ADD `secrets` text;--> statement-breakpoint
INSERT INTO `namespace_counts` (`namespace`, `jobs`) SELECT `namespace`, count(*) FROM `jobs` GROUP BY `namespace`;
