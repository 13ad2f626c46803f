# Counting-process Cox references: the Stanford heart transplant data (start, stop] and
# veteran split at 90 and 180 days by survSplit (timedep.json).

coxph_counting_analysis <- function(id, type, data_file, call, fit, extra = list()) {
  se <- sqrt(diag(fit$var))
  names(se) <- names(coef(fit))
  c(list(id = id, type = type, data = data_file, call = call), extra,
    list(coef = named(coef(fit)), se = named(se), loglik = vec(fit$loglik)))
}

VETERAN_SPLIT <- 'survSplit(Surv(time, status) ~ ., data = veteran, cut = c(90, 180), episode = "tgroup", id = "id")'

timedep_ref <- function(env, out_dir) {
  heart_call <- "coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart)"
  vet2 <- run(VETERAN_SPLIT, env)
  split_call <- "coxph(Surv(tstart, time, status) ~ trt + karno + strata(tgroup), data = vet2)"
  fit2 <- run(split_call, list2env(list(vet2 = vet2), parent = env))
  rows <- table(vet2$tgroup)
  list(
    dataset = "heart, veteran", versions = VERSIONS[c("R", "survival")],
    analyses = list(
      coxph_counting_analysis("heart_cox", "coxph_counting", "heart.csv", heart_call,
                              run(heart_call, env)),
      coxph_counting_analysis(
        "veteran_survsplit", "survsplit_coxph", "veteran.csv",
        paste0("vet2 <- ", VETERAN_SPLIT, "; ", split_call), fit2,
        list(n_rows_split = nrow(vet2), rows_per_tgroup = as.list(setNames(as.vector(rows), names(rows)))))
    )
  )
}

# ---------------------------------------------------------------------------------------------
# timedep_build.json: the (tstart, tstop] data sets themselves, as tmerge and survSplit build
# them, and the Cox fits on them.

PBC_BASE <- "subset(pbc, id <= 312, select = c(id:sex, stage))"
PBC_TMERGE <- paste(
  "pbc2 <- tmerge(base, base, id = id, endpt = event(time, status));",
  "pbc2 <- tmerge(pbc2, pbcseq, id = id, ascites = tdc(day, ascites), bili = tdc(day, bili),",
  "albumin = tdc(day, albumin), protime = tdc(day, protime), alk.phos = tdc(day, alk.phos))"
)

# heart (Stanford transplant) taken apart into one row per subject and the transplant dates.
heart_parts <- function() {
  last <- heart[!duplicated(heart$id, fromLast = TRUE), ]
  base <- data.frame(id = last$id, futime = last$stop, fustat = last$event, age = last$age,
                     year = last$year, surgery = last$surgery)
  tx <- heart[heart$transplant == "1", c("id", "start")]
  names(tx) <- c("id", "txtime")
  list(base = base, changes = tx)
}

frame_columns <- function(d, cols) lapply(d[cols], function(x) if (is.factor(x)) as.character(x) else vec(x))

fit_summary <- function(call, env) {
  fit <- run(call, env)
  se <- sqrt(diag(fit$var))
  names(se) <- names(coef(fit))
  list(call = call, n = fit$n, nevent = fit$nevent, coef = named(coef(fit)), se = named(se),
       loglik = vec(fit$loglik), iterations = fit$iter)
}

timedep_build_ref <- function(env, out_dir) {
  write_data(pbc, "pbc", out_dir)
  write_data(pbcseq, "pbcseq", out_dir)
  hp <- heart_parts()
  write_data(hp$base, "heart_base", out_dir)
  write_data(hp$changes, "heart_transplant", out_dir)
  e <- list2env(list(base = run(PBC_BASE, env), hb = hp$base, hc = hp$changes), parent = env)
  run(PBC_TMERGE, e)
  heart_call <- paste("h2 <- tmerge(hb, hb, id = id, death = event(futime, fustat));",
                      "h2 <- tmerge(h2, hc, id = id, transplant = tdc(txtime))")
  run(heart_call, e)
  vet_call <- 'vet2 <- survSplit(Surv(time, status) ~ ., data = veteran, cut = c(90, 180), episode = "tgroup", id = "id")'
  run(vet_call, e)
  heart_split <- 'hs <- survSplit(Surv(start, stop, event) ~ ., data = heart, cut = c(30, 100, 365), episode = "period")'
  run(heart_split, e)
  pbc_cols <- c("id", "tstart", "tstop", "endpt", "ascites", "bili", "albumin", "protime", "alk.phos")
  list(
    dataset = "pbc, pbcseq, heart (data/heart_base.csv, data/heart_transplant.csv), veteran",
    versions = VERSIONS, generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
    generator = "make_refs.R", conventions = CONVENTIONS,
    notes = "rows: the data set built by the call, column by column, in R's row order.",
    analyses = list(
      list(id = "pbc_tmerge", type = "tmerge", base = PBC_BASE, call = PBC_TMERGE,
           n_rows = nrow(e$pbc2), rows = frame_columns(e$pbc2, pbc_cols),
           cox = fit_summary("coxph(Surv(tstart, tstop, endpt == 2) ~ protime + log(bili), data = pbc2)", e)),
      list(id = "heart_tmerge", type = "tmerge", base = "data/heart_base.csv, data/heart_transplant.csv",
           call = heart_call, n_rows = nrow(e$h2),
           rows = frame_columns(e$h2, c("id", "tstart", "tstop", "death", "transplant")),
           cox = fit_summary("coxph(Surv(tstart, tstop, death) ~ age + year + surgery + transplant, data = h2)", e)),
      list(id = "veteran_survsplit", type = "survsplit", call = vet_call, n_rows = nrow(e$vet2),
           rows = frame_columns(e$vet2, c("id", "tstart", "time", "status", "tgroup")),
           cox = fit_summary("coxph(Surv(tstart, time, status) ~ trt + karno + strata(tgroup), data = vet2)", e)),
      list(id = "heart_survsplit", type = "survsplit", call = heart_split, n_rows = nrow(e$hs),
           rows = frame_columns(e$hs, c("id", "start", "stop", "event", "period")),
           cox = fit_summary("coxph(Surv(start, stop, event) ~ age + surgery + transplant + strata(period), data = hs)", e))
    )
  )
}
