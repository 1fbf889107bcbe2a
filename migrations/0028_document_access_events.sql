CREATE TABLE "document_access_events" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"document_id" uuid NOT NULL,
	"version" integer,
	"grant_id" uuid,
	"request_id" uuid NOT NULL,
	"company" text NOT NULL,
	"email_domain" text NOT NULL,
	"ip" text,
	"user_agent" text,
	"at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "document_access_events_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "document_access_events" ADD CONSTRAINT "document_access_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "document_access_events_at_idx" ON "document_access_events" USING btree ("tenant_id","at");--> statement-breakpoint
CREATE INDEX "document_access_events_grant_idx" ON "document_access_events" USING btree ("tenant_id","grant_id");