# Kaplan-Meier (survfit) and log-rank / Peto-Peto (survdiff) references.

CONF_TYPES <- c("log", "log-log", "plain")

KM_FIELDS_NOTE <- paste(
  "Per stratum, at every distinct time (events and censorings): std.err is the survfit object's",
  "std.err = SE of the cumulative hazard -log S (Greenwood); std.err.surv = surv * std.err is the",
  "SE of S as printed by summary(); cumhaz/std.chaz: Nelson-Aalen hazard and its SE as stored by",
  "survfit; conf.<type>.lower/upper: 95% pointwise CI for each conf.type. summary_table:",
  "summary(fit, rmean='common')$table (median, 0.95LCL, 0.95UCL per conf.type; rmean is the",
  "restricted mean up to the largest time of all groups). quantiles: quantile(fit, probs,",
  "conf.int=TRUE). at_times: summary(fit, times=, extend=TRUE); there n.event/n.censor are counts",
  "in the interval since the previous requested time and std.err is the SE of S."
)

SURVDIFF_NOTE <- paste(
  "obs/exp are per group (summed over strata for stratified tests); for rho != 0 they are weighted",
  "by S(t-)^rho. var is the (weighted) variance-covariance matrix of obs - exp; chisq uses its",
  "generalised inverse; df = number of groups with exp > 0 minus 1 (as print.survdiff)."
)

# Row ranges of each curve of a survfit object, named by stratum ("all" without strata).
curve_rows <- function(fit) {
  if (is.null(fit$strata)) return(list(all = seq_along(fit$time)))
  ends <- cumsum(fit$strata)
  starts <- c(1, head(ends, -1) + 1)
  setNames(Map(seq, starts, ends), names(fit$strata))
}

km_curves <- function(fits) {
  main <- fits[["log"]]
  rows <- curve_rows(main)
  lapply(seq_along(rows), function(i) {
    r <- rows[[i]]
    conf <- lapply(fits, function(f) list(lower = vec(f$lower[r]), upper = vec(f$upper[r])))
    list(
      stratum = names(rows)[i], n = vec(main$n[i]), time = vec(main$time[r]),
      n.risk = vec(main$n.risk[r]), n.event = vec(main$n.event[r]),
      n.censor = vec(main$n.censor[r]), surv = vec(main$surv[r]),
      std.err = vec(main$std.err[r]), std.err.surv = vec(main$surv[r] * main$std.err[r]),
      cumhaz = vec(main$cumhaz[r]), std.chaz = vec(main$std.chaz[r]), conf = conf
    )
  })
}

# summary()$table / quantile() of a single curve are vectors: one row, R's names kept.
as_row <- function(x, rowname = NULL) {
  if (is.matrix(x)) return(x)
  matrix(x, nrow = 1, dimnames = list(rowname, names(x)))
}

km_at_times <- function(fit, times) {
  s <- summary(fit, times = times, extend = TRUE)
  strata <- if (is.null(s$strata)) rep("all", length(s$time)) else as.character(s$strata)
  out <- lapply(unique(strata), function(st) {
    k <- strata == st
    list(time = vec(s$time[k]), n.risk = vec(s$n.risk[k]), n.event = vec(s$n.event[k]),
         n.censor = vec(s$n.censor[k]), surv = vec(s$surv[k]), std.err = vec(s$std.err[k]),
         lower = vec(s$lower[k]), upper = vec(s$upper[k]))
  })
  setNames(out, unique(strata))
}

km_analysis <- function(id, formula, data_expr, env, time_unit, times,
                        description = NULL, probs = c(0.25, 0.5, 0.75)) {
  calls <- setNames(lapply(CONF_TYPES, function(ct)
    sprintf('survfit(%s, data = %s, conf.type = "%s")', formula, data_expr, ct)), CONF_TYPES)
  fits <- lapply(calls, run, env = env)
  quant <- lapply(fits, function(f) {
    q <- quantile(f, probs, conf.int = TRUE)
    lapply(q[c("quantile", "lower", "upper")], function(x) mat(as_row(x)))
  })
  list(
    id = id, type = "kaplan_meier", description = description, calls = calls,
    formula = formula, data = data_expr, time_unit = time_unit, conf.int = 0.95,
    fields_note = KM_FIELDS_NOTE, curves = km_curves(fits),
    summary_table = lapply(fits, function(f) mat(as_row(summary(f, rmean = "common")$table, "all"))),
    quantiles = list(probs = probs, by_conf_type = quant),
    at_times = list(times = times, by_conf_type = lapply(fits, km_at_times, times = times))
  )
}

survdiff_analysis <- function(id, formula, data_expr, env, rho, description = NULL) {
  call <- sprintf("survdiff(%s, data = %s, rho = %d)", formula, data_expr, rho)
  f <- run(call, env)
  groups <- names(f$n)
  stratified <- is.matrix(f$obs)
  by_stratum <- function(m) {
    m <- unname(m)
    dimnames(m) <- list(groups, names(f$strata))
    mat(m)
  }
  obs <- if (stratified) rowSums(f$obs) else f$obs
  expected <- if (stratified) rowSums(f$exp) else f$exp
  v <- f$var
  dimnames(v) <- list(groups, groups)
  df <- sum(expected > 0) - 1
  list(
    id = id, type = "survdiff", description = description, call = call, formula = formula,
    data = data_expr, rho = rho,
    test = if (rho == 0) "log-rank" else "Peto-Peto (Peto & Peto modification of Gehan-Wilcoxon; rho=1)",
    stratified = stratified, groups = groups, n = vec(f$n),
    strata = if (stratified) list(names = names(f$strata), n = vec(f$strata)) else NULL,
    obs = vec(obs), exp = vec(expected),
    obs_by_stratum = if (stratified) by_stratum(f$obs) else NULL,
    exp_by_stratum = if (stratified) by_stratum(f$exp) else NULL,
    var = mat(v), chisq = f$chisq, df = df,
    p = pchisq(f$chisq, df, lower.tail = FALSE), pvalue_object = f$pvalue,
    note = SURVDIFF_NOTE
  )
}
