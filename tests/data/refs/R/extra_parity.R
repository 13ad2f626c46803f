# R-parity references for awkward data (cox_parity.json): heavily tied deaths with
# ties = "exact", follow-up time 0 (flchain), iteration limits, aliased (collinear) covariates,
# and R's error for a single-group log-rank test.

simulate_cox_ties <- function(n) {
  set.seed(1)
  data.frame(time = sample(1:4, n, TRUE), status = rbinom(n, 1, 0.8),
             x1 = round(rnorm(n), 3), x2 = rbinom(n, 1, 0.5))
}

# The fields every Cox parity case records (NA for aliased terms, as R).
cox_core <- function(id, call, fit, description = NULL) {
  s <- summary(fit)
  warn <- attr(fit, "warnings")
  list(
    id = id, type = "coxph", description = description, call = call, n = fit$n,
    nevent = fit$nevent, terms = names(coef(fit)), coef = vec(coef(fit)),
    se_coef = vec(s$coefficients[, "se(coef)"]), var = mat(unname(fit$var)),
    loglik = list(null = fit$loglik[1], final = fit$loglik[2]), iterations = fit$iter,
    lr_test = test_row(s$logtest),
    wald_test = test_row(c(test = unname(fit$wald.test), s$waldtest[c("df", "pvalue")])),
    score_test = test_row(s$sctest), means = vec(fit$means),
    warnings = if (length(warn)) I(warn) else NULL
  )
}

# Fit, keeping R's warnings (text) on the result.
fit_keep_warnings <- function(call, env) {
  msgs <- character()
  fit <- withCallingHandlers(run(call, env), warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  attr(fit, "warnings") <- msgs
  fit
}

cox_case <- function(id, call, env, description = NULL) {
  cox_core(id, call, fit_keep_warnings(call, env), description)
}

parity_ref <- function(env, out_dir) {
  ties <- simulate_cox_ties(1500)
  write_data(ties, "cox_ties", out_dir)
  write_data(flchain, "flchain", out_dir)
  e <- list2env(list(ties = ties, ties1300 = head(ties, 1300), flchain = flchain,
                     lung2 = transform(lung, age2 = 2 * age, ecog_copy = ph.ecog)), parent = env)
  f <- "Surv(time, status) ~ age + sex + ph.ecog"
  iter_cases <- list()
  for (ties_method in c("efron", "breslow", "exact")) for (k in 1:3) {
    call <- sprintf('coxph(%s, data = lung, ties = "%s", iter.max = %d)', f, ties_method, k)
    case <- cox_case(sprintf("iter_max_%d_%s", k, ties_method), call, e)
    # R's var after running out of iterations (iter.max > 1) comes from an information matrix
    # that was not re-factored; the inverse information at the returned coef, for comparison:
    at <- coxph(as.formula(f), data = lung, ties = ties_method, init = unlist(case$coef), iter.max = 0)
    case$var_at_coef <- mat(unname(at$var))
    iter_cases[[length(iter_cases) + 1]] <- case
  }
  single <- tryCatch(survdiff(Surv(time, status) ~ rep(1, nrow(lung)), data = lung),
                     error = function(err) conditionMessage(err))
  list(
    dataset = "lung, flchain (data/flchain.csv), simulated ties (data/cox_ties.csv)",
    versions = VERSIONS, generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
    generator = "make_refs.R", conventions = CONVENTIONS,
    notes = "R parity cases: coef of an aliased term is NA (singular.ok = TRUE) and its var row/column 0; warnings are R's messages.",
    analyses = c(
      list(
        cox_case("ties_exact_1300", 'coxph(Surv(time, status) ~ x1 + x2, data = ties1300, ties = "exact")', e,
                 "first 1300 rows of data/cox_ties.csv: 4 distinct times, up to 279 tied deaths"),
        cox_case("ties_efron_1300", 'coxph(Surv(time, status) ~ x1 + x2, data = ties1300, ties = "efron")', e),
        cox_case("ties_breslow_1300", 'coxph(Surv(time, status) ~ x1 + x2, data = ties1300, ties = "breslow")', e),
        cox_case("ties_exact_1500", 'coxph(Surv(time, status) ~ x1 + x2, data = ties, ties = "exact")', e,
                 "all 1500 rows: R's exact recursion overflows (loglik -Inf, coefficients NA)"),
        cox_case("time_zero_flchain", "coxph(Surv(futime, death) ~ age + sex, data = flchain)", e,
                 "flchain has 3 rows with futime = 0 (right-censored data accept time 0)"),
        cox_case("aliased_numeric", "coxph(Surv(time, status) ~ age + sex + age2, data = lung2)", e,
                 "age2 = 2 * age is aliased: NA coefficient, the rest fitted"),
        cox_case("aliased_factor", "coxph(Surv(time, status) ~ age + factor(ph.ecog) + ecog_copy, data = lung2)", e,
                 "ecog_copy is a linear combination of the factor(ph.ecog) columns"),
        list(id = "survdiff_single_group", type = "error",
             call = "survdiff(Surv(time, status) ~ rep(1, nrow(lung)), data = lung)", message = single)
      ),
      iter_cases
    )
  )
}
