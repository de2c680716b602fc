# credwatch shell hook for zsh. In ~/.zshrc:  source /usr/share/credwatch/credwatch.zsh
# (the same as: eval "$(credwatch init zsh)"; it runs credwatch once, at shell start-up).
if [[ -x /usr/bin/credwatch ]]; then
  eval "$(/usr/bin/credwatch init zsh)"
fi
