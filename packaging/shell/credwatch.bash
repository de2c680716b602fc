# credwatch shell hook for bash. In ~/.bashrc:  source /usr/share/credwatch/credwatch.bash
# (the same as: eval "$(credwatch init bash)"; it runs credwatch once, at shell start-up).
# shellcheck shell=bash
if [ -x /usr/bin/credwatch ]; then
  eval "$(/usr/bin/credwatch init bash)"
fi
