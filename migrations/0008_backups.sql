CREATE TABLE "backup_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"kind" text NOT NULL,
	"outcome" text NOT NULL,
	"backup_id" uuid,
	"detail" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backup_notices" (
	"problem" text NOT NULL,
	"day" date NOT NULL,
	"sent_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "backup_notices_problem_day_pk" PRIMARY KEY("problem","day")
);
--> statement-breakpoint
CREATE TABLE "backup_settings" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"settings" jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "backups" (
	"id" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"trigger" text NOT NULL,
	"requested_by" text,
	"destination" text NOT NULL,
	"location" text,
	"engine" text,
	"size" bigint,
	"digest" text,
	"part_count" integer,
	"blob_count" integer,
	"row_counts" jsonb,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	"verify_status" text,
	"verified_at" timestamp (3) with time zone,
	"verify_detail" text,
	"drill_status" text,
	"drill_at" timestamp (3) with time zone,
	"drill_detail" text,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE INDEX "backup_events_at_idx" ON "backup_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "backups_created_idx" ON "backups" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "backups_status_idx" ON "backups" USING btree ("status","created_at");