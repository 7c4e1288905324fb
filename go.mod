module github.com/fluxpulid/fluxpulid

go 1.24
