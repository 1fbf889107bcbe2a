CREATE TABLE "ip_allowlists" (
	"tenant_id" uuid NOT NULL,
	"list" text NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"entries" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"updated_by" text,
	CONSTRAINT "ip_allowlists_tenant_id_list_pk" PRIMARY KEY("tenant_id","list")
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "allowed_ips" text[];--> statement-breakpoint
ALTER TABLE "ip_allowlists" ADD CONSTRAINT "ip_allowlists_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;