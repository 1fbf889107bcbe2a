CREATE TABLE "review_campaigns" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"period" text NOT NULL,
	"trigger" text NOT NULL,
	"started_by_id" uuid,
	"started_by_label" text NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"due_at" timestamp (3) with time zone NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"closed_at" timestamp (3) with time zone,
	"closed_by_label" text,
	CONSTRAINT "review_campaigns_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "review_items" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"campaign_id" uuid NOT NULL,
	"subject_id" uuid NOT NULL,
	"subject_email" text NOT NULL,
	"subject_name" text NOT NULL,
	"role" text NOT NULL,
	"role_name" text NOT NULL,
	"reviewer_id" uuid,
	"reviewer_email" text,
	"flag" text,
	"decision" text,
	"outcome" text,
	"decided_by_id" uuid,
	"decided_by_label" text,
	"decided_at" timestamp (3) with time zone,
	"note" text,
	CONSTRAINT "review_items_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "review_notices" (
	"tenant_id" uuid NOT NULL,
	"recipient" text NOT NULL,
	"notice" text NOT NULL,
	"sent_on" text NOT NULL,
	"sent_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "review_notices_tenant_id_recipient_notice_sent_on_pk" PRIMARY KEY("tenant_id","recipient","notice","sent_on")
);
--> statement-breakpoint
CREATE TABLE "review_settings" (
	"tenant_id" uuid NOT NULL,
	"schedule_enabled" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text NOT NULL,
	CONSTRAINT "review_settings_tenant_id_pk" PRIMARY KEY("tenant_id")
);
--> statement-breakpoint
ALTER TABLE "review_campaigns" ADD CONSTRAINT "review_campaigns_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_tenant_id_campaign_id_review_campaigns_tenant_id_id_fk" FOREIGN KEY ("tenant_id","campaign_id") REFERENCES "public"."review_campaigns"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_notices" ADD CONSTRAINT "review_notices_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_settings" ADD CONSTRAINT "review_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "review_campaigns_scheduled_period_idx" ON "review_campaigns" USING btree ("tenant_id","period") WHERE "review_campaigns"."trigger" = 'schedule';--> statement-breakpoint
CREATE INDEX "review_campaigns_status_idx" ON "review_campaigns" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE INDEX "review_items_campaign_idx" ON "review_items" USING btree ("tenant_id","campaign_id");--> statement-breakpoint
CREATE INDEX "review_items_reviewer_idx" ON "review_items" USING btree ("tenant_id","reviewer_id");