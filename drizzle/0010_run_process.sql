ALTER TABLE `runs` ADD `pgid` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `proc` text;