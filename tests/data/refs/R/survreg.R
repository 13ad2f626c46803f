# Parametric AFT references: survreg fits (survreg.json) and their predictions
# (survreg_predict.json: predict() quantiles and linear predictors, survival probabilities from
# psurvreg, summary() table).

SURVREG_DISTS <- c("weibull", "exponential", "lognormal", "loglogistic")
SURVREG_MODELS <- list(
  lung = "Surv(time, status) ~ age + sex + ph.ecog",
  veteran = "Surv(time, status) ~ trt + karno + factor(celltype)"
)

survreg_fit <- function(dataset, dist, env) {
  call <- sprintf('survreg(%s, data = data, dist = "%s")', SURVREG_MODELS[[dataset]], dist)
  fit <- run(call, list2env(list(data = get(dataset, envir = env)), parent = env))
  list(call = call, fit = fit)
}

survreg_core <- function(id, dist, call, fit) {
  v <- vcov(fit)
  se <- sqrt(diag(v))
  list(
    id = id, type = "survreg", call = call, dist = dist, coef = named(coef(fit)),
    scale = fit$scale,
    log_scale_se = if ("Log(scale)" %in% names(se)) unname(se["Log(scale)"]) else NA,
    se = named(se),
    # survreg.json stores var as a flat row-major array (its own layout, kept as published)
    var = list(rownames = rownames(v), colnames = colnames(v), values = vec(t(v))), loglik = vec(fit$loglik), iterations = fit$iter,
    n = nrow(fit$y)
  )
}

survreg_each <- function(env, f) {
  out <- list()
  for (dist in SURVREG_DISTS) for (ds in names(SURVREG_MODELS)) {
    sr <- survreg_fit(ds, dist, env)
    out[[length(out) + 1]] <- f(paste(ds, dist, sep = "_"), dist, sr$call, sr$fit, ds)
  }
  out
}

survreg_ref <- function(env, out_dir) {
  list(dataset = "lung, veteran",
       versions = VERSIONS[c("R", "survival")],
       analyses = survreg_each(env, function(id, dist, call, fit, ds) survreg_core(id, dist, call, fit)))
}

SURVREG_NEWDATA <- list(
  lung = "data.frame(age = c(50, 65, 80), sex = c(1, 2, 1), ph.ecog = c(0, 1, 3))",
  veteran = "data.frame(trt = c(1, 2, 2), karno = c(30, 60, 90), celltype = factor(c('squamous', 'adeno', 'large'), levels = levels(veteran$celltype)))"
)
SURVREG_P <- c(0.1, 0.25, 0.5, 0.75, 0.9)
SURVREG_TIMES <- c(30, 90, 180, 365, 730)

survreg_prediction <- function(id, dist, call, fit, ds, env) {
  newdata <- run(SURVREG_NEWDATA[[ds]], env)
  q <- predict(fit, newdata = newdata, type = "quantile", p = SURVREG_P, se.fit = TRUE)
  lp <- predict(fit, newdata = newdata, type = "lp", se.fit = TRUE)
  surv <- sapply(SURVREG_TIMES, function(t)
    1 - psurvreg(t, mean = lp$fit, scale = fit$scale, distribution = dist))
  s <- summary(fit)
  list(
    id = id, type = "survreg_predict", call = call, dist = dist,
    newdata = SURVREG_NEWDATA[[ds]],
    predict_quantile = list(call = "predict(fit, newdata, type = 'quantile', p = p, se.fit = TRUE)",
                            p = vec(SURVREG_P), fit = mat(unname(q$fit)), se_fit = mat(unname(q$se.fit))),
    predict_lp = list(call = "predict(fit, newdata, type = 'lp', se.fit = TRUE)",
                      fit = vec(lp$fit), se_fit = vec(lp$se.fit)),
    predict_response = vec(predict(fit, newdata = newdata, type = "response")),
    survival = list(call = "1 - psurvreg(t, mean = lp, scale = fit$scale, distribution = dist)",
                    times = vec(SURVREG_TIMES), values = mat(unname(surv))),
    summary_table = mat(s$table),
    chisq = list(value = s$chi, df = sum(s$df) - s$idf, p = pchisq(s$chi, sum(s$df) - s$idf, lower.tail = FALSE)),
    linear_predictors = vec(fit$linear.predictors)
  )
}

survreg_predict_ref <- function(env, out_dir) {
  list(dataset = "lung, veteran", versions = VERSIONS[c("R", "survival")],
       generator = "make_refs.R", conventions = CONVENTIONS,
       notes = paste("rows of predict_quantile/survival: newdata rows; columns: p / times.",
                     "summary_table: summary(fit)$table (Value, Std. Error, z, p)."),
       analyses = survreg_each(env, function(...) survreg_prediction(..., env = env)))
}
