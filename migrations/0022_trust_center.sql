CREATE TABLE "trust_center_drafts" (
	"tenant_id" uuid NOT NULL,
	"locale" text DEFAULT 'en' NOT NULL,
	"section" text NOT NULL,
	"document" jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text NOT NULL,
	"updated_by_id" text,
	"review_state" text DEFAULT 'draft' NOT NULL,
	"review_requested_by" text,
	"review_requested_by_id" text,
	"approved_by" text,
	"approved_at" timestamp (3) with time zone,
	"publish_at" timestamp (3) with time zone,
	"publish_scheduled_by" text,
	CONSTRAINT "trust_center_drafts_tenant_id_locale_section_pk" PRIMARY KEY("tenant_id","locale","section")
);
--> statement-breakpoint
CREATE TABLE "trust_center_versions" (
	"tenant_id" uuid NOT NULL,
	"locale" text DEFAULT 'en' NOT NULL,
	"section" text NOT NULL,
	"version" integer NOT NULL,
	"document" jsonb NOT NULL,
	"published_at" timestamp (3) with time zone NOT NULL,
	"published_by" text NOT NULL,
	"approved_by" text,
	"note" text,
	CONSTRAINT "trust_center_versions_tenant_id_locale_section_version_pk" PRIMARY KEY("tenant_id","locale","section","version")
);
--> statement-breakpoint
ALTER TABLE "trust_center_drafts" ADD CONSTRAINT "trust_center_drafts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trust_center_versions" ADD CONSTRAINT "trust_center_versions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;