CREATE TABLE "audit_verifications" (
	"tenant_id" uuid NOT NULL,
	"checked_at" timestamp (3) with time zone NOT NULL,
	"ok" boolean NOT NULL,
	"events" integer NOT NULL,
	"checkpoints" integer NOT NULL,
	"first_seq" bigint,
	"last_seq" bigint,
	"last_hash" text,
	"anchor" text NOT NULL,
	"problem" jsonb,
	"summary" text NOT NULL,
	"checked_by" text NOT NULL,
	CONSTRAINT "audit_verifications_tenant_id_pk" PRIMARY KEY("tenant_id")
);
--> statement-breakpoint
ALTER TABLE "audit_verifications" ADD CONSTRAINT "audit_verifications_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;