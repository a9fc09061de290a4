ALTER TABLE `jobs` ADD `compat` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `params` text;