# credwatch shell hook for fish. In ~/.config/fish/config.fish:
#   source /usr/share/credwatch/credwatch.fish
# (the same as: credwatch init fish | source; it runs credwatch once, at shell start-up).
if test -x /usr/bin/credwatch
    /usr/bin/credwatch init fish | source
end
