# Serialisation helpers shared by the reference generators (sourced by make_refs.R).
#
# Conventions of every reference file: numbers with 15 significant digits; NA, NaN, Inf, -Inf
# as strings; vectors as arrays (length-1 vectors that are arrays by nature wrapped in I());
# matrices as {"rownames", "colnames", "values"} with row-major values.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

VERSIONS <- list(
  R = R.version.string,
  survival = as.character(packageVersion("survival")),
  cmprsk = as.character(packageVersion("cmprsk")),
  jsonlite = as.character(packageVersion("jsonlite")),
  platform = R.version$platform
)

CONVENTIONS <- paste(
  "numbers: 15 significant digits; missing/non-finite values are the strings NA, NaN, Inf, -Inf;",
  "vectors are arrays; matrices are row-major arrays with rownames/colnames; each analysis",
  "carries the exact R call evaluated"
)

# A matrix as {"rownames", "colnames", "values"} (names NULL when R has none).
mat <- function(m) {
  m <- as.matrix(m)
  names_of <- function(x) if (is.null(x)) NULL else I(x)
  list(rownames = names_of(rownames(m)), colnames = names_of(colnames(m)), values = unname(m))
}

# A plain numeric vector (names dropped), always an array.
vec <- function(x) I(unname(as.vector(x)))

# A named numeric vector as a JSON object.
named <- function(x) as.list(x)

# Evaluate an R call given as text, in an environment holding the data sets.
run <- function(call, env) eval(parse(text = call), envir = env)

# Write one reference document (pretty JSON, 15 significant digits).
write_ref <- function(doc, path) {
  txt <- toJSON(doc, auto_unbox = TRUE, digits = NA, na = "string", null = "null", pretty = TRUE)
  writeLines(txt, path, useBytes = TRUE)
  message("wrote ", path)
}

# Header of the per-dataset documents (lung, veteran, ovarian, mgus2, bladder).
dataset_header <- function(name, data, study, time_unit, notes) {
  list(
    dataset = name,
    source = sprintf("R package survival %s, dataset '%s' (data/%s.csv)", VERSIONS$survival, name, name),
    source_study = study,
    n_rows = nrow(data),
    columns = names(data),
    time_unit = time_unit,
    versions = VERSIONS,
    generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
    generator = "make_refs.R",
    conventions = CONVENTIONS,
    notes = notes
  )
}

# Export a data set as the tests read it: no row names, missing values as empty fields.
write_data <- function(data, name, dir) {
  write.csv(data, file.path(dir, "data", paste0(name, ".csv")), row.names = FALSE, na = "")
}
