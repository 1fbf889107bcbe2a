CREATE TABLE "trust_center_branding" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"display_name" text,
	"primary_color" text,
	"accent_color" text,
	"logo_blob_id" uuid,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trust_center_certificate_reminders" (
	"tenant_id" uuid NOT NULL,
	"standard" text NOT NULL,
	"valid_until" text NOT NULL,
	"threshold" integer NOT NULL,
	"sent_at" timestamp (3) with time zone NOT NULL,
	"days_left" integer NOT NULL,
	"recipients" integer NOT NULL,
	CONSTRAINT "trust_center_certificate_reminders_tenant_id_standard_valid_until_threshold_pk" PRIMARY KEY("tenant_id","standard","valid_until","threshold")
);
--> statement-breakpoint
CREATE TABLE "trust_center_domains" (
	"tenant_id" uuid NOT NULL,
	"hostname" text NOT NULL,
	"token" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text NOT NULL,
	"verified_at" timestamp (3) with time zone,
	"last_checked_at" timestamp (3) with time zone,
	"last_error" text,
	CONSTRAINT "trust_center_domains_tenant_id_hostname_pk" PRIMARY KEY("tenant_id","hostname")
);
--> statement-breakpoint
ALTER TABLE "trust_center_branding" ADD CONSTRAINT "trust_center_branding_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trust_center_certificate_reminders" ADD CONSTRAINT "trust_center_certificate_reminders_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trust_center_domains" ADD CONSTRAINT "trust_center_domains_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;