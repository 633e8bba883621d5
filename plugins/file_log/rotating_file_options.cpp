#include "rotating_file_options.hpp"

namespace crosscut::plugins::file_log {

const sdk::OptionTable<RotatingFileOptions>& rotating_file_options_table() {
  static const sdk::OptionTable<RotatingFileOptions> table{
      sdk::bind_option("path", &RotatingFileOptions::path,
                       "the active log file; rotated files get .1, .2, ... appended")
          .required(),
      sdk::bind_option("max_size", &RotatingFileOptions::max_size,
                       "rotate before the file would grow beyond this size")
          .positive(),
      sdk::bind_option("max_files", &RotatingFileOptions::max_files,
                       "rotated files kept besides the active one (the oldest is removed)")
          .max(1000),
  };
  return table;
}

}  // namespace crosscut::plugins::file_log
