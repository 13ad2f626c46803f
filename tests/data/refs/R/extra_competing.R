# Competing-risks references beyond the mgus2 analyses (cmprsk.json): simulated data with
# heavy ties and zero times, three groups and three causes, strata, rho = 1, small random data
# sets, a curve that ends at S = 0, a singular Gray variance, and crr fits with a three-level
# factor, edge codings and predictions. The simulated data are written to data/cr_*.csv with
# values rounded so that the CSV holds them exactly.

simulate_cr_ties <- function() {
  set.seed(20240611)
  n <- 150
  data.frame(time = round(rexp(n, 1 / 8)),
             event = sample(0:3, n, replace = TRUE, prob = c(0.3, 0.3, 0.25, 0.15)),
             group = sample(c("a", "b", "c"), n, replace = TRUE),
             stratum = sample(0:1, n, replace = TRUE))
}

simulate_crr <- function() {
  set.seed(20240612)
  n <- 120
  age <- round(rnorm(n, 60, 10), 1)
  arm <- sample(c("ctl", "exp", "high"), n, replace = TRUE)
  lp <- 0.03 * (age - 60) + 0.5 * (arm == "exp")
  data.frame(time = round(rexp(n, exp(lp) / 10)),
             status = sample(0:3, n, replace = TRUE, prob = c(0.3, 0.35, 0.2, 0.15)),
             age = age, male = sample(0:1, n, replace = TRUE), arm = arm)
}

simulate_crr_edge <- function() {
  set.seed(20240613)
  n <- 50
  d <- data.frame(t = round(rexp(n, 1 / 5)), age = round(rnorm(n), 2), z = sample(0:1, n, replace = TRUE))
  d$ev_no_competing <- sample(c(0, 1), n, replace = TRUE)
  d$ev_no_censoring <- sample(c(1, 2), n, replace = TRUE)
  d$ev_only_the_cause <- 1
  d$ev_events_at_zero <- sample(c(0, 1, 2), n, replace = TRUE)
  d$t_events_at_zero <- replace(d$t, 1:6, 0)
  d
}

small_cuminc_cases <- function() {
  set.seed(20240614)
  out <- list()
  while (length(out) < 40) {
    n <- sample(1:40, 1)
    time <- sample(0:10, n, replace = TRUE)
    event <- sample(0:2, n, replace = TRUE)
    if (!any(event > 0)) next
    ci <- cuminc(time, event, cencode = 0)
    out[[length(out) + 1]] <- list(time = vec(time), event = vec(event), curves = cuminc_curves(ci))
  }
  out
}

crr_fit_ref <- function(id, call, env, extra = list()) {
  fit <- run(call, env)
  c(list(id = id, type = "crr", call = call), crr_summary(fit),
    list(uftime = vec(fit$uftime), bfitj = vec(fit$bfitj)), extra)
}

competing_extra_ref <- function(env, out_dir) {
  ties <- simulate_cr_ties()
  crr_data <- simulate_crr()
  edge <- simulate_crr_edge()
  write_data(ties, "cr_ties", out_dir)
  write_data(crr_data, "cr_crr", out_dir)
  write_data(edge, "cr_crr_edge", out_dir)
  e <- list2env(list(ties = ties, crr_data = crr_data, edge = edge), parent = env)
  ci <- function(id, call, description) cuminc_analysis(id, call, e, times = c(2, 5, 10, 20), description)
  cov <- "cov1 = model.matrix(~ age + male + arm, data = crr_data)[, -1]"
  crr_call <- function(code) sprintf("with(crr_data, crr(time, status, %s, failcode = %d, cencode = 0))", cov, code)
  newcov <- "rbind(young = c(50, 0, 0, 0), old = c(70, 1, 1, 0))"
  pred_fit <- run(crr_call(1), e)
  pred <- predict(pred_fit, run(newcov, e))
  edge_call <- function(case) {
    tcol <- if (case == "events_at_zero") "t_events_at_zero" else "t"
    sprintf("with(edge, crr(%s, ev_%s, cbind(age = age, z = z), failcode = 1, cencode = 0))", tcol, case)
  }
  singular <- cuminc(c(1, 2, 3, 4), c(1, 1, 0, 2), c("a", "b", "b", "a"))
  everyone <- cuminc(c(1, 2, 2, 3, 4, 4), c(1, 2, 0, 1, 1, 2))
  list(
    dataset = "simulated (data/cr_ties.csv, data/cr_crr.csv, data/cr_crr_edge.csv) and inline",
    versions = VERSIONS, generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
    generator = "make_refs.R", conventions = CONVENTIONS,
    notes = "cmprsk::cuminc / crr on simulated data; Gray's test rows per cause; crr design columns age, male, armexp, armhigh (treatment contrasts, reference ctl).",
    analyses = list(
      ci("cuminc_three_groups", "with(ties, cuminc(time, event, group, cencode = 0))",
         "3 groups x 3 causes, heavy ties and zero times"),
      ci("cuminc_three_groups_strata", "with(ties, cuminc(time, event, group, strata = stratum, cencode = 0))",
         "Gray's test stratified"),
      ci("cuminc_three_groups_strata_rho1", "with(ties, cuminc(time, event, group, strata = stratum, rho = 1, cencode = 0))",
         "Gray's test stratified, rho = 1"),
      ci("cuminc_two_groups", "with(ties, cuminc(time, event, ifelse(group == 'a', 'x', 'y'), cencode = 0))",
         "two groups (a vs b + c)"),
      list(id = "cuminc_everyone_fails", type = "cuminc_inline",
           call = "cuminc(c(1, 2, 2, 3, 4, 4), c(1, 2, 0, 1, 1, 2))",
           description = "S reaches 0 at the last time, a failure of cause 1",
           time = vec(c(1, 2, 2, 3, 4, 4)), event = vec(c(1, 2, 0, 1, 1, 2)),
           curves = cuminc_curves(everyone)),
      list(id = "gray_singular", type = "cuminc_inline",
           call = "cuminc(c(1, 2, 3, 4), c(1, 1, 0, 2), c('a', 'b', 'b', 'a'))",
           description = "cause 2 occurs after group b has left: its score variance is 0",
           time = vec(c(1, 2, 3, 4)), event = vec(c(1, 1, 0, 2)), group = c("a", "b", "b", "a"),
           curves = cuminc_curves(singular), grays_test = grays_test(singular)),
      list(id = "cuminc_small_random", type = "cuminc_small",
           call = "cuminc(time, event, cencode = 0) on 40 random data sets (integer times 0..10, codes 0..2)",
           cases = small_cuminc_cases()),
      crr_fit_ref("crr_cause1", crr_call(1), e, list(
        predict = list(call = sprintf("predict(fit, %s)", newcov), newcov = mat(run(newcov, e)),
                       time = vec(pred[, 1]), cif = mat(unname(pred[, -1, drop = FALSE]))))),
      crr_fit_ref("crr_cause2", crr_call(2), e),
      crr_fit_ref("crr_cause3", crr_call(3), e),
      crr_fit_ref("crr_edge_no_competing", edge_call("no_competing"), e),
      crr_fit_ref("crr_edge_no_censoring", edge_call("no_censoring"), e),
      crr_fit_ref("crr_edge_only_the_cause", edge_call("only_the_cause"), e),
      crr_fit_ref("crr_edge_events_at_zero", edge_call("events_at_zero"), e)
    )
  )
}
