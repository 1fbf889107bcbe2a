CREATE TABLE "retention_rules" (
	"tenant_id" uuid NOT NULL,
	"category" text NOT NULL,
	"period_days" integer NOT NULL,
	"held" boolean DEFAULT false NOT NULL,
	"hold_reason" text,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text,
	CONSTRAINT "retention_rules_tenant_id_category_pk" PRIMARY KEY("tenant_id","category")
);
--> statement-breakpoint
CREATE TABLE "retention_runs" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"category" text NOT NULL,
	"period_days" integer NOT NULL,
	"cutoff" timestamp (3) with time zone NOT NULL,
	"deleted" integer DEFAULT 0 NOT NULL,
	"batches" integer DEFAULT 0 NOT NULL,
	"outcome" text NOT NULL,
	"error" text,
	"requested_by" text NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"lease_until" timestamp (3) with time zone,
	CONSTRAINT "retention_runs_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "retention_rules" ADD CONSTRAINT "retention_rules_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retention_runs" ADD CONSTRAINT "retention_runs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "retention_runs_started_idx" ON "retention_runs" USING btree ("tenant_id","started_at");--> statement-breakpoint
CREATE INDEX "retention_runs_category_idx" ON "retention_runs" USING btree ("tenant_id","category","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "retention_runs_running_idx" ON "retention_runs" USING btree ("tenant_id","category") WHERE outcome = 'running';