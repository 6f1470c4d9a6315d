-- CPU limits: a process may carry a CFS quota in millicores (500 = at most half a core of CPU
-- time), so one app spinning every core cannot take its neighbours' latency with it. NULL (every
-- existing process): no quota, only the CPU shares its memory gives it, as before.

ALTER TABLE "processes" ADD COLUMN "cpu_millicores" INTEGER;
