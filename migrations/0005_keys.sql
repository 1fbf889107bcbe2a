CREATE TABLE "master_key_check" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"master_key_id" text NOT NULL,
	"proof" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenant_keys" (
	"tenant_id" uuid NOT NULL,
	"purpose" text NOT NULL,
	"version" integer NOT NULL,
	"wrapped_key" text NOT NULL,
	"master_key_id" text NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "tenant_keys_tenant_id_purpose_version_pk" PRIMARY KEY("tenant_id","purpose","version")
);
