-- Build logs: every line said to the pushing terminal (staging output, deploy progress, the
-- result) is kept with its build, readable through GET /v1/apps/:app/builds/:id/log while the push
-- runs and after. A build keeps the last 1 MB of its log; older lines are dropped and counted.

ALTER TABLE "builds" ADD COLUMN "log_dropped_lines" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "builds" ADD COLUMN "log_closed_at" TIMESTAMP(3);

CREATE TABLE "build_log_lines" (
    "build_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "build_log_lines_pkey" PRIMARY KEY ("build_id", "seq"),
    CONSTRAINT "build_log_lines_build_id_fkey" FOREIGN KEY ("build_id") REFERENCES "builds"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
