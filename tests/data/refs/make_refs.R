#!/usr/bin/env Rscript
# Regenerate every R reference result the npctrial tests compare against.
#
#   Rscript tests/data/refs/make_refs.R [OUTDIR]      (default: the directory of this script)
#
# Needs R >= 4.2 with survival 3.5, cmprsk 2.2 and jsonlite (Debian: r-base-core r-cran-survival
# r-cran-cmprsk r-cran-jsonlite). Writes data/<name>.csv (the data sets, exported unchanged from
# R's packages or simulated with a fixed seed) and <name>.json (results with the exact R call).
# Check a regeneration with: python tests/data/refs/compare_refs.py tests/data/refs OUTDIR

script_dir <- local({
  arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(arg)) dirname(normalizePath(sub("^--file=", "", arg[1]))) else getwd()
})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else script_dir
dir.create(file.path(out_dir, "data"), recursive = TRUE, showWarnings = FALSE)

for (part in c("helpers", "km_logrank", "cox", "competing", "datasets", "survreg", "timedep",
               "extra_competing", "extra_parity")) {
  path <- file.path(script_dir, "R", paste0(part, ".R"))
  if (file.exists(path)) source(path)
}

env <- new.env()
datasets <- list(lung = lung, veteran = veteran, ovarian = ovarian, mgus2 = mgus2,
                 bladder = bladder, heart = heart)
for (nm in names(datasets)) {
  assign(nm, datasets[[nm]], envir = env)
  write_data(datasets[[nm]], nm, out_dir)
}

refs <- list(lung = lung_ref, veteran = veteran_ref, ovarian = ovarian_ref, mgus2 = mgus2_ref,
             bladder = bladder_ref)
if (exists("survreg_ref")) refs$survreg <- survreg_ref
if (exists("survreg_predict_ref")) refs$survreg_predict <- survreg_predict_ref
if (exists("timedep_ref")) refs$timedep <- timedep_ref
if (exists("timedep_build_ref")) refs$timedep_build <- timedep_build_ref
if (exists("competing_extra_ref")) refs$cmprsk <- competing_extra_ref
if (exists("parity_ref")) refs$cox_parity <- parity_ref
only <- Sys.getenv("NPCTRIAL_REFS_ONLY")
if (nzchar(only)) refs <- refs[strsplit(only, ",")[[1]]]
for (nm in names(refs)) write_ref(refs[[nm]](env, out_dir), file.path(out_dir, paste0(nm, ".json")))
